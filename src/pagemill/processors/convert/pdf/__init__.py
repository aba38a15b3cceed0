"""PDFs from their text layer: parsing, page objects (pictures, rules), tables."""
