"""The new reply text above the quoted history of a plain-text mail.

No well-kept Python library does this well enough (talon is unmaintained since 2017;
mail-parser-reply and quotequail passed under half of the email_reply_trimmer and talon vectors
in the public reply-extraction test vectors), so this is a small port of the approach of Discourse's
email_reply_trimmer: classify every line with one letter, then cut with regular expressions on
that string of letters.

    e empty    d delimiter (----, ____, ***)    s mobile signature ("Sent from my iPhone")
    b embedded-mail marker ("On <date>, <someone> wrote:", "Begin forwarded message:")
    q quoted (starts with >)    h mail header of an embedded mail (From:, Sent:, Betreff:)
    t text

The full body is always kept beside the extracted reply (body_full), so a wrong cut hides text
from the ticket's main view only, never loses it.
"""
from __future__ import annotations

import re

# -- line matchers ---------------------------------------------------------------------------
_DELIMITER = re.compile(r"^[ \t]*[-_,=+~#*ᐧ—]+[ \t]*$")

_SIGNATURES = [
    r"sent from my\b", r"sent from (?:yahoo|mailbox|windows mail|outlook|mail for windows)", r"sent with airmail",
    r"sent via mobile", r"sent from (?:the )?(?:blackberry|samsung|android|iphone|ipad)",
    r"get outlook for (?:ios|android)", r"from my iphone", r"envoyé depuis (?:mon|yahoo)",
    r"von meinem .+ gesendet", r"diese nachricht wurde von meinem .+ gesendet", r"inviato da(?:l mio)? ",
    r"sendt fra min ", r"wysłane z mojego ", r"enviado (?:do|desde) (?:meu|mi) ", r"skickat från min ",
    r"verzonden met ", r"verstuurd vanaf mijn ", r"从我的 ?iphone 发送", r"được gửi từ iphone của tôi",
    r"отправлено с (?:моего )?(?:iphone|ipad)",
]
_SIGNATURE = re.compile(r"^[ \t]*(?:" + "|".join(_SIGNATURES) + ")", re.IGNORECASE)

# "On <date>, <someone> wrote:" in the languages mail clients use, and bare "<someone> wrote:".
_WROTE_WORDS = (r"wrote|sent|schrieb|geschrieben|a écrit|ha scritto|escribió|escreveu|schreef|skrev|skrev följande|"
                r"kirjoitti|napisał|napsal|написал|написала|написав|пише|yazdı|írta|έγραψε|写道|寫道|a scris|"
                r"đã viết|kirjutas|rašė|rakstīja|написал\(а\)")
_ON_DATE_WROTE = re.compile(
    r"^[ \t>*-]*(?:On|Le|Am|Op|El|Em|Il|Den|På|W dniu|Dne|Dňa|Pe|Vào|В|Во|У|Στις|Kl\.|Kello|Le mar|"
    r"[0-9]{1,4}[-./][0-9]{1,2}[-./][0-9]{1,4}|\d{4}年|在)(?:\b|\s).{0,300}?(?:" + _WROTE_WORDS + r")\s*[:：]?[ \t>*-]*$",
    re.IGNORECASE)
# "<someone> <addr> schrieb am <date>:", "<weekday>, <date> <someone> написал:"
_NAME_EMAIL_WROTE = re.compile(r"^[ \t>*-]*[^<>\n]{0,100}<[^>\s]+@[^>\s]+>\s+(?:" + _WROTE_WORDS + r")\b.{0,120}[:：]\s*$",
                               re.IGNORECASE)
_DATED_WROTE = re.compile(r"^[ \t>*-]*(?=[^\n]{0,300}\d)[^\n]{0,300}\b(?:" + _WROTE_WORDS + r")\s*[:：][ \t]*$", re.IGNORECASE)
_SOMEONE_WROTE = re.compile(r"^[ \t>*-]*.{1,200}<[^>\s]+@[^>\s]+>[^:]{0,60}?(?:" + _WROTE_WORDS + r")?\s*[:：][ \t]*$")
_DATE_EMAIL = re.compile(r"^[ \t>*-]*\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}.{0,100}[:：][ \t]*$")
_FORWARD = re.compile(
    r"^[ \t>*-]*(?:Begin forwarded message|-{2,} ?(?:Forwarded message|Original Message|Weitergeleitete Nachricht|"
    r"Ursprüngliche Nachricht|Message transféré|Message d'origine|Messaggio originale|Mensaje original|"
    r"Mensagem original|Oorspronkelijk bericht|Oprindelig meddelelse|Alkuperäinen viesti|Исходное сообщение|"
    r"Pesan asli|Ursprungligt meddelande|Opprinnelig melding)) ?-*:?[ \t*]*$", re.IGNORECASE)
# "Am <date> schrieb "Name" <addr>:" (the wrote-word before the name)
_ON_DATE_WROTE_NAME = re.compile(r"^[ \t>*-]*(?:On|Le|Am|Op|El|Em|Il|Den|På|W dniu)\s.{0,200}?(?:" + _WROTE_WORDS +
                                 r")\s.{0,150}[:：]\s*$", re.IGNORECASE)
# "2016-03-03 17:21 GMT+01:00 Some One", "2013/7/20 sam via Discourse Meta <info@discourse.org>"
_DATE_NAME = re.compile(r"^[ \t>]*\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:\s+\d{1,2}:\d{2}(?:\s*GMT[+-]\d{1,2}:?\d{2})?\s+[^<>\n]{1,80}"
                        r"(?:<[^>\s]+@[^>\s]+>)?|\s+[^<>\n]{1,80}<[^>\s]+@[^>\s]+>)\s*:?\s*$")
# Android: "---- John Smith wrote ----"
_DASHED_WROTE = re.compile(r"^[ \t>]*-{2,}\s*.{1,120}?\b(?:" + _WROTE_WORDS + r")\s*-{2,}\s*$", re.IGNORECASE)
_SAMSUNG = re.compile(r"^[ \t>]*Sent from Samsung.{0,200}wrote:?[ \t]*$", re.IGNORECASE)

_HEADER_WORDS = (
    "from|sent|to|cc|bcc|subject|date|reply-to|"
    "von|gesendet|an|betreff|datum|"  # de
    "de|envoyé|à|objet|date|cc|"  # fr
    "van|verzonden|aan|onderwerp|"  # nl
    "od|wysłano|do|temat|data|"  # pl
    "от|отправлено|кому|тема|дата|"  # ru
    "від|надіслано|кому|тема|"  # uk
    "de|enviado|para|asunto|fecha|assunto|"  # es, pt
    "da|inviato|a|oggetto|"  # it
    "fra|sendt|til|emne|dato|"  # da, no
    "från|skickat|till|ämne|"  # sv
    "lähettäjä|lähetetty|vastaanottaja|aihe|"  # fi
    "feladó|küldve|címzett|tárgy|"  # hu
    "kimden|gönderildi|kime|konu|"  # tr
    "发件人|发送时间|收件人|主题|寄件者|傳送時間|收件者|主旨|"  # zh
    "差出人|送信日時|宛先|件名|"  # ja
    "보낸 사람|보낸 날짜|받는 사람|제목|"  # ko
    "người gửi|ngày gửi|người nhận|chủ đề"  # vi
)
_HEADER = re.compile(r"^[ \t>]*\*?(?:" + _HEADER_WORDS + r")[ \t]*\*?[ \t]*[:：][ \t]*\*?[ \t]*\S", re.IGNORECASE)
_QUOTE = re.compile(r"^[ \t]*[A-Z]{0,3}>")  # "> text", and "JD> text" (initials, some clients)
# Markers that may wrap over several lines ("On Mon, ... <\nfoo@bar.com> wrote:") are joined first.
_MARKER_START = re.compile(r"^[ \t>]*(?:(?:On|Le|Am|Op|El|Em|Il|\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}) |"
                           r".{0,100}<[^>\s]+@[^>\s]+>|.{0,200}<[ \t]*$)", re.IGNORECASE)
_MAX_MARKER_LINES = 6
_MAX_JOIN_ATTEMPTS = 200  # bounds the work on pathological mail (thousands of "On ..." lines)


def classify_line(line: str, in_code: bool = False) -> str:
    if in_code:
        return "t"
    if not line.strip():
        return "e"
    if _DELIMITER.match(line):
        return "d"
    if _SIGNATURE.match(line):
        return "s"
    if (_FORWARD.match(line) or _ON_DATE_WROTE.match(line) or _SAMSUNG.match(line) or _DATE_EMAIL.match(line)
            or _SOMEONE_WROTE.match(line) or _NAME_EMAIL_WROTE.match(line) or _DATED_WROTE.match(line)
            or _ON_DATE_WROTE_NAME.match(line) or _DATE_NAME.match(line) or _DASHED_WROTE.match(line)):
        return "b"
    if _QUOTE.match(line):
        return "q"
    if _HEADER.match(line):
        return "h"
    return "t"


def _join_wrapped_markers(lines: list[str]) -> list[str]:
    out: list[str] = []
    i, attempts = 0, 0
    while i < len(lines):
        line, joined_count = lines[i], 0
        if attempts < _MAX_JOIN_ATTEMPTS and _MARKER_START.match(line) and classify_line(line) != "b":
            attempts += 1
            for extra in range(1, min(_MAX_MARKER_LINES, len(lines) - i)):
                joined = " ".join([line] + [re.sub(r"^[ \t>]*", "", x) for x in lines[i + 1:i + extra + 1] if x.strip()])
                if len(joined) <= 400 and classify_line(joined) == "b":
                    line, joined_count = joined, extra
                    break
        out.append(line)
        i += 1 + joined_count
    return out


def _classify_lines(lines: list[str]) -> list[str]:
    """Line classes; lines inside ``` code fences are text (a "####" there is code, not a delimiter)."""
    classes, in_code = [], False
    for line in lines:
        fence = line.strip().startswith("```")
        classes.append("t" if fence or in_code else classify_line(line))
        if fence:
            in_code = not in_code
    return classes


def extract_reply(text: str) -> str:
    """The new text of a reply: quoted history, embedded mails and signatures cut off.

    A mail that is nothing but a quote is returned unchanged (there is nothing else to show)."""
    if not text or not text.strip():
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    lines = _join_wrapped_markers(text.split("\n"))
    pattern = "".join(_classify_lines(lines))

    def cut_before(index: int) -> None:
        nonlocal pattern, lines
        pattern, lines = pattern[:index], lines[:index]

    def remove_all(letter: str) -> None:
        nonlocal pattern, lines
        keep = [i for i, c in enumerate(pattern) if c != letter]
        pattern, lines = "".join(pattern[i] for i in keep), [lines[i] for i in keep]

    # The reply below the quote ("top-quoting" the other way round): keep the text after it.
    m = re.fullmatch(r"e*b[^t]*[bqeh](t[te]*)", pattern)
    if m:
        start = m.start(1)
        pattern, lines = pattern[start:], lines[start:]
    if "d" in pattern:
        cut_before(pattern.index("d"))
    if "s" in pattern:
        cut_before(pattern.index("s"))
    # An embedded-mail marker not followed by a quote: everything from it on is the old mail.
    m = re.search(r"te*b[^q]*$", pattern)
    if m:
        cut_before(m.start() + 1)
    # A marker followed by a long quote (and a little text, e.g. a footer): cut at the marker.
    m = re.search(r"te*b[eqbh]*([te]*)$", pattern)
    if m and m.group(1).count("t") < 7:
        cut_before(m.start() + 1)
    # Text, then only quotes (and markers) to the end: drop the quotes.
    m = re.search(r"te*[qbe]+$", pattern)
    if m:
        cut_before(m.start() + 1)
    remove_all("b")
    # Headers of an embedded mail that wrap over several lines count as headers.
    m = re.search(r"h+[hte]+h+e", pattern)
    if m:
        pattern = pattern[:m.start()] + "h" * (m.end() - m.start()) + pattern[m.end():]
    # Three or more header lines after some text: the embedded mail starts there.
    m = re.search(r"t[eq]*h{3,}", pattern)
    if m:
        cut_before(m.start() + 1)
    remove_all("h")
    if "t" in pattern:
        m = re.search(r"[eq]+$", pattern)
        if m:
            cut_before(m.start())
    result = "\n".join(lines).strip()
    return result if result else text
