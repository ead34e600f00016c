"""The app's entry point: `streamlit run app.py`. Names every page for what it answers; each page draws itself.

URL paths stay what they were when pages were found by file name (``/Query_explorer``, ...);
the overview is the default page at ``/``.

While a ``pages/`` folder sits next to the entry point, Streamlit runs its old file-based
navigation instead of this script until some session has run it once: a server's first visitor
arriving by a deep link (``/Query_explorer``) would get an extra "app" page and titles made from
file names. Every page therefore starts with :func:`app_common.use_router`, which hands such a run
back to this router.
"""

from __future__ import annotations

import streamlit as st

PAGES = (
    ("pages/0_Overview.py", "Overview", ""),
    ("pages/1_Query_explorer.py", "Query explorer", "Query_explorer"),
    ("pages/2_Language_pairs.py", "Language pairs", "Language_pairs"),
    ("pages/3_BM25_cross_script.py", "BM25 cross-script", "BM25_cross_script"),
    ("pages/4_Label_audit.py", "Label audit", "Label_audit"),
    ("pages/5_Hybrid_what_if.py", "Hybrid what-if", "Hybrid_what_if"),
    ("pages/6_Significance.py", "Significance", "Significance"),
)

st.set_page_config(page_title="nanomlqa_viz", layout="wide")
pages = [st.Page(path, title=title, url_path=url or None, default=not url) for path, title, url in PAGES]
st.navigation(pages).run()
