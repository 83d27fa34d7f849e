"""Reading notebooks: the instructor's master and the students' submissions."""

import sys

# jsonschema (imported by nbformat) builds a large IRI grammar at import time when the
# optional rfc3987_syntax package is present: over a second of start-up for a string
# format that notebooks never use.  Declaring it absent keeps a cold grading run fast.
sys.modules.setdefault("rfc3987_syntax", None)
