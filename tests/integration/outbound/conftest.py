from __future__ import annotations

# The shared mail world; `aws` and `settings` are fixtures of this package through this import.
from tests.integration.mail_world import ATT, DOMAIN, REGION, SIGNING_KEYS, aws, customer_mail, settings  # noqa: F401


def mail(*, frm="carol@customer.test", to=f"support@{DOMAIN}", subject="Invoice wrong", body="It is wrong.",
         message_id="<first@customer.test>", headers: dict[str, str] | None = None) -> bytes:
    return customer_mail(name="Carol", frm=frm, to=to, subject=subject, body=body, message_id=message_id, headers=headers)
