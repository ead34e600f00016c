"""Failure-analysis app for cross-lingual retrieval on the NanoMMTEB-v2 ``mlqa`` split."""
