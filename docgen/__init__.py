"""Generators of test documents (PDFs, office files, invoices and forms with their truth,
hostile files), shared by the test suite and the benchmarks; not part of the pagemill package.

- ``pdfgen``: PDFs with known text, layout, scans and tables (reportlab, pypdfium2).
- ``officegen``: DOCX, PPTX, XLSX, HTML and EPUB files, and hostile zips (bombs, entities).
- ``extractgen``: invoices, forms, letters and resumes with the values an extraction must find.
- ``hostilegen``: hand-written hostile PDFs, structures no well-behaved generator produces.
"""
