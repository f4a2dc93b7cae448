"""Classes, maps, comparisons, slides, exports and legends in words: values in, a map or a file out."""
