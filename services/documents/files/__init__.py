"""Members' documents and the fund's forms.

File bytes never travel through RabbitMQ. The gateway streams an upload to a random
key in the `quarantine` bucket and passes only that key; `uploads.accept_upload` checks
the object (`content`: type recognised by its content, size, checksum; the member's
quota), copies it under an unguessable key in `documents` and deletes the quarantine
object (`quarantine`), whatever the outcome. Downloads are authorised here and streamed
by the gateway from storage. Forms (`forms`) are PDF files in the `forms` bucket,
published and withdrawn by the fund. `entrypoints` holds the RPC methods.

Nothing here imports the request registry.
"""
