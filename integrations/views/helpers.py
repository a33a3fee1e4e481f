"""The filters a request on the project page is about."""

from django.http import QueryDict

from integrations.filters import IntegrationFilters
from qonadmin.http import HtmxHttpRequest, current_page_query


def current_filters(request: HtmxHttpRequest) -> IntegrationFilters:
    """The filters the user is looking at: the page's URL for HTMX requests (a row
    action's own URL carries none), else this request's query string."""
    if request.htmx:
        # A header that is not a URL of this site counts as "no filters", never an error.
        return IntegrationFilters.from_query(QueryDict(current_page_query(request)))
    return IntegrationFilters.from_query(request.GET)
