"""Who really sent a mail: SES's SPF, DKIM and DMARC verdicts, read from the Authentication-Results
header SES puts on top of every received mail (the local SMTP front stamps the same header).

Only the topmost Authentication-Results counts, and only when its authserv-id is SES's
(`amazonses.com`): a sender can write any header of that name into its mail, but SES prepends its
own above them, so a forged one is never the first.

Example (SES):
    Authentication-Results: amazonses.com; spf=pass (spfCheck: domain of example.com designates
     192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=bob@example.com; helo=mx.example.com;
     dkim=pass header.i=@example.com; dmarc=pass header.from=example.com;
A DMARC result may carry the domain's policy in a comment, `dmarc=fail (p=REJECT sp=REJECT) header.from=...`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from helpdesk.intake.email.parse import ParsedEmail

SES_AUTHSERV_ID = "amazonses.com"
_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_POLICY = re.compile(r"\bp\s*=\s*(none|quarantine|reject)\b", re.IGNORECASE)
_PROPERTY = re.compile(r"\b(header\.from|header\.[id]|smtp\.mailfrom|envelope-from)\s*=\s*\"?([^\s;\"()]+)",
                       re.IGNORECASE)


@dataclass(frozen=True)
class SenderAuth:
    """SES's verdicts on one mail ("" when SES did not say) and whether they vouch for its From."""

    spf: str = ""
    dkim: str = ""
    dmarc: str = ""
    dmarc_policy: str = ""  # none | quarantine | reject, when the verdict names it
    spf_domain: str = ""  # the envelope sender's domain SPF checked
    dkim_domain: str = ""  # the signing domain (header.i / header.d)

    @property
    def dmarc_rejects(self) -> bool:
        """DMARC failed and the From domain asks receivers to reject or quarantine such mail."""
        return self.dmarc == "fail" and self.dmarc_policy in ("reject", "quarantine")

    def vouches_for(self, from_domain: str) -> bool:
        """The From address is authenticated: DMARC passed, or (the domain publishes no DMARC
        policy) SPF or DKIM passed for that same domain or a subdomain of it."""
        if self.dmarc == "pass":
            return True
        if self.dmarc not in ("", "none"):
            return False
        return (self.spf == "pass" and _aligned(self.spf_domain, from_domain)) or (
            self.dkim == "pass" and _aligned(self.dkim_domain, from_domain))


def _aligned(domain: str, from_domain: str) -> bool:
    domain, from_domain = domain.lower().strip("."), from_domain.lower().strip(".")
    return bool(domain and from_domain) and (domain == from_domain or domain.endswith("." + from_domain)
                                             or from_domain.endswith("." + domain))


def sender_auth(mail: ParsedEmail) -> SenderAuth:
    """SES's verdicts from the topmost Authentication-Results (nothing when another server wrote it)."""
    value = re.sub(r"\s+", " ", mail.header("authentication-results"))
    authserv_id = value.split(";", 1)[0].strip().split(" ")[0].lower()
    if authserv_id != SES_AUTHSERV_ID:
        return SenderAuth()
    results: dict[str, str] = {}
    policy, spf_domain, dkim_domain = "", "", ""
    for clause in value.split(";")[1:]:
        found = _RESULT.search(clause)
        if not found:
            continue
        method, result = found.group(1).lower(), found.group(2).lower()
        results.setdefault(method, result)
        properties = {k.lower(): v for k, v in _PROPERTY.findall(clause)}
        if method == "dmarc":
            match = _POLICY.search(clause)
            policy = policy or (match.group(1).lower() if match else "")
        elif method == "spf":
            sender = properties.get("smtp.mailfrom") or properties.get("envelope-from") or ""
            spf_domain = spf_domain or sender.rpartition("@")[2]
        elif method == "dkim" and result == "pass":
            signer = properties.get("header.d") or properties.get("header.i") or ""
            dkim_domain = dkim_domain or signer.rpartition("@")[2]
    return SenderAuth(spf=results.get("spf", ""), dkim=results.get("dkim", ""), dmarc=results.get("dmarc", ""),
                      dmarc_policy=policy, spf_domain=spf_domain, dkim_domain=dkim_domain)
