"""The license as a document: types and their fields (the catalogue), Chinese identifiers, the signed
document with its field commitments, the QR presentation (strict reader and writer), QR rendering,
and joint issuance's application, bundle and bundle QR code (:mod:`registry.document.joint`)."""
