"""Sending webhooks: the outbox rows (written by `integrations.outbox` in the transaction of
each change) go out from every server process, signed, retried, in order per subject.

- signing: the request body and headers, and `signature_verify` for receivers (no Django)
- transport: one HTTP(S) POST with one deadline, redirects not followed (no Django)
- store: due deliveries, claims (the lease), outcomes, retries, giving up, failing
  endpoints, redelivery, pruning (ORM)
- sender: the per-process async loop, a task of the print dispatcher
"""
