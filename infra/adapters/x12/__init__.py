"""ANSI X12 004010 at the edge (decision 0025): a reader (`reader`), a writer (`writer`), the 850 mapping
(`purchase_order`) and the outbound documents (`documents`: 997, 855, 856, 810). Pure: text in, values out,
values in, text out; no I/O. X12 is a wire format, so `domain/` never sees it."""
