"""Planning answers built from the accounting core and the laws: budget, memory, data, comparisons."""
