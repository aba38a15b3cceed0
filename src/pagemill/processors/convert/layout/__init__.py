"""Page layout shared by the PDF, OCR and image paths: lines, columns, furniture, blocks."""
