"""The Streamlit editor of travel notes, thin over the SDK (creator.assistant).

``creator ui`` (ui/launch.py) runs ``streamlit run`` on ui/app.py; each page is one
module under ui/panels/ with one ``render()``. Importing this package does not import
streamlit.
"""

__all__: list[str] = []
