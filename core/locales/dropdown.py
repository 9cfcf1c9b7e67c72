"""Dash's dropdowns' own texts (the search box, "no options", multi-select counts): keys are dcc.Dropdown's
``labels`` keys prefixed with "dropdown.". English as Dash says it; Chinese so that a zh page's dropdowns
have no English in them."""

MESSAGES = {
    "dropdown.search": ("搜索", "Search"),
    "dropdown.clear_search": ("清除搜索", "Clear search"),
    "dropdown.clear_selection": ("清除选择", "Clear selection"),
    "dropdown.no_options_found": ("没有匹配的选项", "No options found"),
    "dropdown.select_all": ("全选", "Select All"),
    "dropdown.deselect_all": ("全不选", "Deselect All"),
    "dropdown.selected_count": ("已选 {num_selected} 项", "{num_selected} selected"),
}
