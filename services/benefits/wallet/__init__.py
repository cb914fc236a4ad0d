"""The registration card in a mobile wallet.

`card` what a pass shows, in French and English; `apple` the signed .pkpass; `google`
the "Save to Google Wallet" link; `images` the pass's icon and logo; `certificates`
reading the keys both sign with; `development` self-made keys for development;
`passes` the member's pass from the service's settings; `web_service` Apple's pass
updates (devices registering, changed passes, the latest pass).
"""
