"""The issuing department's side: the department (issue, anchor, change status), its store and
migrations, and the anchoring worker."""
