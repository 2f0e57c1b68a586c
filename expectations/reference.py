"""Reference values the business rules check against: fixed lists published by others."""

# ISO 4217 codes of currencies in use (2026), without funds, precious metals and test codes.
# ANG and XCG both: Curaçao and Sint Maarten move from one to the other over 2025-2026.
ISO_CURRENCIES = frozenset(
    """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS
VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split()
)

# HubSpot's default lifecycle stages (internal values), in funnel order.
HUBSPOT_LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)

# HubSpot's original-source values (`hs_analytics_source`).
HUBSPOT_SOURCES = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
    "AI_REFERRALS",
)

# The social networks the project reads or recognises in UTMs.
SOCIAL_PLATFORMS = ("facebook", "instagram", "x", "linkedin", "youtube", "tiktok", "pinterest")

# The content sources of the listening API (Brandwatch-style page types).
LISTENING_PLATFORMS = (*SOCIAL_PLATFORMS, "reddit", "forums", "blogs", "news", "reviews")

# Who wrote a mention or a post (the listening API's author types, the team's rosters).
AUTHOR_TYPES = ("brand", "competitor", "customer", "influencer", "employee", "media")

# A UTM value as the team tags links: lower-case words of letters and digits joined by `_` or
# `-` (sources may be host names, with dots). GA4 writes its own labels in parentheses.
UTM_VALUE = r"[a-z0-9]+([_.-][a-z0-9]+)*"
UTM_OR_GA4_LABEL = UTM_VALUE + r"|\([a-z ]+\)"
