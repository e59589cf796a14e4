"""Delivery of print jobs to printers: the print_job table is the queue; the channel layer
only rings the bell. Where each part lives (see docs/delivery.md):

- transitions: every job state change (row, event, log line), and new jobs
- bell, frames: ringing dispatchers on commit, with each job's frame built once
- claims: waiting jobs, claiming them for a socket, requeueing a lost socket's jobs
- reports: applying `print_status` and network print outcomes; retry backoff
- housekeeping: ack timeout, orphans, expiry, failover to a backup printer
- presence: server process and socket rows, heartbeats, reaping dead processes
- decisions: the dispatcher's choices, with no I/O
- dispatcher, sockets, groups, recorder, heartbeat: the per-process async side
- network: printing to IP:9100 printers from the server
- orm, outages: running ORM work off the event loop; logging outages once
"""
