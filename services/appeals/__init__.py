"""Appeals service: receive, dispatch, handle, supervise and call back (接、分、办、督、访)."""
