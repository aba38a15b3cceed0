"""DOCX, PPTX and XLSX, with the zip and XML safety they share."""
