"""What the inputs of free text outside a request's details tell the people who fill them in.

Only the details given at submission are sealed under the request's key (`request_fields`).
The reasons, details, grounds and summaries of the later steps go into the events, the
topic and the archive as written, and an erasure leaves them readable: the person who
writes them is told so where the API describes the field.
"""

IN_THE_CLEAR = (
    "Kept and published as written: not sealed under the request's key, and still readable "
    "after its personal data is erased. Name no person here."
)
