"""Plots drawn from sqc result objects: ``<area>.py`` modules, each with static (matplotlib) and interactive
(Bokeh, for Panel) functions. Plotting never recomputes a statistic: it reads the result object."""
