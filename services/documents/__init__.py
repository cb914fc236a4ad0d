"""documents: members' files and the fund's forms (`files/`), and the one registry of
online requests (`requests/`), side by side in one service.

One direction only: `requests` may use `files` (a reply names the member's documents),
`files` never imports `requests` (an upload naming a request reaches the registry
through the `RequestLink` the service hands it). Both share one declarative base
(`base.py`) and the copy of auth's members (`members.py`); `service.py` wires them.
"""
