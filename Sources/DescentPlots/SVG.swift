// SVG plots (see issue 4).
