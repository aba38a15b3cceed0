"""Text formats with structure of their own: XML (JATS articles, USPTO patents, RSS/Atom feeds,
any other XML), AsciiDoc, subtitles (WebVTT, SRT), JSON and Jupyter notebooks."""
