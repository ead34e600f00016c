"""The app's entry point: `streamlit run app.py`. Names every page for what it answers; each page draws itself.

URL paths stay what they were when pages were found by file name (``/Query_explorer``, ...);
the overview is the default page at ``/``.

The page scripts live in ``app_pages/``, not ``pages/``: while a ``pages/`` folder sits next to the
entry point, Streamlit runs its old file-based navigation instead of this script until some session
has run it once, so a server's first visitor arriving by a deep link (``/Query_explorer``) got an
extra "app" page and titles made from file names.
"""

from __future__ import annotations

import streamlit as st

PAGES = (
    ("app_pages/0_Overview.py", "Overview", ""),
    ("app_pages/1_Query_explorer.py", "Query explorer", "Query_explorer"),
    ("app_pages/2_Language_pairs.py", "Language pairs", "Language_pairs"),
    ("app_pages/3_BM25_cross_script.py", "BM25 cross-script", "BM25_cross_script"),
    ("app_pages/4_Label_audit.py", "Label audit", "Label_audit"),
    ("app_pages/5_Hybrid_what_if.py", "Hybrid what-if", "Hybrid_what_if"),
    ("app_pages/6_Significance.py", "Significance", "Significance"),
)

st.set_page_config(page_title="nanomlqa_viz", layout="wide")
pages = [st.Page(path, title=title, url_path=url or None, default=not url) for path, title, url in PAGES]
st.navigation(pages).run()
