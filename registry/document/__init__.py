"""The license as a document: types and their fields, Chinese identifiers, the signed document with
its field commitments, the QR presentation (strict reader and writer) and QR rendering."""
