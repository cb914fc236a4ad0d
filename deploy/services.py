"""The suite's processes, by name (`deploy.suite` starts them, `deploy.broker` reads
their handlers): no imports, so both can use it."""

# name -> nameko service class; the gateway last, once its backends answer.
SERVICES: dict[str, str] = {
    "auth": "services.auth.service:AuthService",
    "notifications": "services.notifications.service:NotificationsService",
    "benefits": "services.benefits.service:BenefitsService",
    "documents": "services.documents.service:DocumentsService",
    "pension": "services.pension.service:PensionService",
    "gateway": "gateway.service:GatewayService",
}
