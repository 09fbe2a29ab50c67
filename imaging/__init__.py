"""The built-in image server: file store, format readers, pyramid maths, rendering (tiles,
thumbnails, windows, crops), histograms, upload import and the relay to an external PIMS
(decision 8, PIXELS.md). A leaf: it imports no other cytogate package but `settings`' values
handed to it."""
