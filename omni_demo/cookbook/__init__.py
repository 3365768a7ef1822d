"""The upstream cookbooks: `cases` (each case's data with its Chinese text) and `requests` (a case and
the user's inputs made into a request, and its answer split for the page). The page is
`omni_demo.ui.cookbook`; nothing in this package imports gradio or torch."""
