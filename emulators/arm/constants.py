"""Fixed values of the emulated API (Customer Insights interactions, api-version 2017-04-26)."""

from typing import Final

API_VERSION: Final = "2017-04-26"
SUPPORTED_API_VERSIONS: Final = (API_VERSION,)
PROVIDER: Final = "Microsoft.CustomerInsights"
RESOURCE_TYPE: Final = "Microsoft.CustomerInsights/hubs/interactions"
DEFAULT_LOCALE: Final = "en-us"

# Audiences ARM accepts besides its own origin, each with and without the trailing slash.
PUBLIC_AUDIENCES: Final = ("https://management.azure.com/", "https://management.core.windows.net/")

# ARM's classic per-subscription budgets (Learn "Throttling Resource Manager requests").
DEFAULT_WRITES_PER_HOUR: Final = 1200
DEFAULT_READS_PER_HOUR: Final = 12000
