"""One list mechanism for every list page: filters, search, sorting and pages, all from the URL.

A view builds a `Listing` from the request, a queryset already restricted to what the user may see, a
django-filter FilterSet (the same one the API uses, so `?search=`, `?status=` ... mean the same on pages
and in the API), the sortable columns and a default sort; the template includes
`_listing_controls.html` (search box, filters, page size), `_listing_head.html` (sortable column
headers with aria-sort) and `_listing_pages.html` (total, page links). Everything is a GET parameter,
so a view can be bookmarked and shared. Invalid input (an unknown sort, a page size not offered, a
filter value that does not parse) answers 400 with the reason next to the field, never a 500.

Adopting it for another list (imports, counts, duplicates):

    listing = Listing(request, Import.objects.visible_to(request.user), filterset_class=ImportFilter,
                      columns=[Column("created", _("Started"), ("created_at", "pk")), ...],
                      default_sort="-created")
    return render(request, "intake/imports.html", {"listing": listing}, status=listing.status)

and in the template: `{% include "_listing_controls.html" %}`, a table whose `<thead>` row is
`{% include "_listing_head.html" %}` and whose rows are `{% for row in listing.rows %}`, then
`{% include "_listing_pages.html" %}`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

PAGE_SIZES = (25, 50, 100, 200)


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


@dataclass(frozen=True)
class Column:
    """A table column: its key in `?sort=` (`key` ascending, `-key` descending), its header, and the fields
    it sorts by (None: not sortable). The last field should be unique (e.g. "pk") so pages are stable."""

    key: str
    label: Any
    order: tuple[str, ...] | None = None
    css: str = ""


class Listing:
    def __init__(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        columns: Sequence[Column],
        default_sort: str,
        filterset_class: type | None = None,
        page_size: int = PAGE_SIZES[0],
        prepare: Callable[[list[Any]], None] | None = None,
        label: str = "",
    ) -> None:
        from config.api import EstimatingPaginator

        self.request = request
        self.params: QueryDict = request.GET
        self.columns = list(columns)
        self.label = label
        self.errors: dict[str, list[str]] = {}
        self.filterset = filterset_class(self.params, queryset=queryset, request=request) if filterset_class else None
        if self.filterset is not None:
            if self.filterset.is_valid():
                queryset = self.filterset.qs
            else:
                self.errors.update(
                    {name: [str(m) for m in messages] for name, messages in self.filterset.errors.items()}
                )
                queryset = queryset.none()
        self.searching = bool(self.params.get("search", "").strip())
        sortable = {column.key: column for column in self.columns if column.order}
        self.sort = self.params.get("sort", "")
        if self.sort and self.sort.lstrip("-") not in sortable:
            self.errors["sort"] = [_("This list cannot be sorted by that.")]
            self.sort = ""
        if not self.sort and not self.searching:
            self.sort = default_sort
        if self.sort:  # while searching without a chosen sort, the best matches come first
            column = sortable[self.sort.lstrip("-")]
            descending = self.sort.startswith("-")
            queryset = queryset.order_by(*[_flip(f) if descending else f for f in column.order])
        raw_size = self.params.get("page_size", "")
        self.page_size = page_size
        if raw_size:
            if raw_size.isdigit() and int(raw_size) in PAGE_SIZES:
                self.page_size = int(raw_size)
            else:
                self.errors["page_size"] = [_("Choose one of the page sizes offered.")]
        self.status = 400 if self.errors else 200
        paginator = EstimatingPaginator(queryset, self.page_size)
        self.page: Page = paginator.get_page(self.params.get("page"))
        self.total = paginator.count
        self.total_is_estimate = paginator.count_is_estimate
        self.rows = list(self.page.object_list)
        if prepare is not None:
            prepare(self.rows)

    # --- URLs ------------------------------------------------------------------------------------

    def url(self, **changes: Any) -> str:
        """This list's address with some parameters changed (None removes one); the page resets to 1
        unless it is the change."""
        params = self.params.copy()
        if "page" not in changes:
            params.pop("page", None)
        for name, value in changes.items():
            params.pop(name, None)
            if value not in (None, ""):
                params[name] = str(value)
        query = urlencode(sorted((k, v) for k, values in params.lists() for v in values if v != ""))
        return f"?{query}" if query else "?"

    @property
    def headers(self) -> list[dict[str, Any]]:
        result = []
        current, descending = self.sort.lstrip("-"), self.sort.startswith("-")
        for column in self.columns:
            header: dict[str, Any] = {"label": column.label, "css": column.css, "url": None, "aria_sort": None}
            if column.order:
                if column.key == current:
                    header["aria_sort"] = "descending" if descending else "ascending"
                    header["url"] = self.url(sort=column.key if descending else f"-{column.key}")
                else:
                    header["url"] = self.url(sort=column.key)
            result.append(header)
        return result

    @property
    def page_links(self) -> list[dict[str, Any]]:
        """First, last, and the pages around the current one; gaps as None."""
        number, last = self.page.number, self.page.paginator.num_pages
        wanted = sorted({1, last, *range(max(1, number - 2), min(last, number + 2) + 1)})
        links: list[dict[str, Any]] = []
        previous = 0
        for page in wanted:
            if page - previous > 1:
                links.append({"gap": True})
            links.append({"number": page, "url": self.url(page=page), "current": page == number})
            previous = page
        return links

    @property
    def previous_url(self) -> str | None:
        return self.url(page=self.page.previous_page_number()) if self.page.has_previous() else None

    @property
    def next_url(self) -> str | None:
        return self.url(page=self.page.next_page_number()) if self.page.has_next() else None

    @property
    def page_sizes(self) -> tuple[int, ...]:
        return PAGE_SIZES

    @property
    def form(self) -> Any:
        return self.filterset.form if self.filterset is not None else None

    @property
    def hidden_params(self) -> list[tuple[str, str]]:
        """Parameters the controls form does not show itself (the sort, a tab), kept when it is sent."""
        shown = (set(self.form.fields) if self.form is not None else set()) | {"search", "page", "page_size"}
        return [
            (name, value) for name, values in self.params.lists() for value in values if name not in shown and value
        ]

    @property
    def filtered(self) -> bool:
        shown = set(self.form.fields) if self.form is not None else set()
        return any(self.params.get(name) for name in shown | {"search"})
