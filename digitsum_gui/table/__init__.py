"""The results table: one row per input, its columns, sort, filters, editor, thumbnails and view.

- ``columns``: ``Column`` and one ``ColumnSpec`` per column (``COLUMNS``): header, width, text,
  sort key, tooltip, font, and for the True sum when it takes an edit and how it is saved;
- ``true_sum``: the True sum column's cells and saving, over the folder's labels;
- ``true_sum_editor``: the line edit that checks a typed sum before it is saved;
- ``model``: ``PredictionTableModel``, the Qt adapter over the list of rows, asking the specs;
- ``display_order``: which input each display row shows, sorted in Python (fast with 100,000 rows);
- ``filter_proxy``: ``PredictionFilterProxyModel``, the filters (file name, errors, doubtful);
- ``row_colours``: which colours a row has (the colours themselves: ``digitsum_gui.style``);
- ``thumbnails``: the images in the first column, read off the GUI thread;
- ``view`` and ``legend``: the ``QTableView`` set up for long tables, and the strip under it.

``digitsum_gui.results_view`` puts the table beside the detail pane in the window.
"""
