"""Who a member is, in the words every service and the fund share."""

FUNDS = ("CCSS", "CAR", "CMRC", "CAMTI", "CARTI")  # the schemes a person subscribes to
SELF_EMPLOYED_FUNDS = ("CAMTI", "CARTI")
LANGUAGES = ("fr", "en")
REGISTRATION_NUMBER_PATTERN = r"^[0-9]{4,6}$"
CLIENTS = ("web", "mobile")  # the apps a member logs in from
