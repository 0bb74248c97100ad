"""Running the series: the headless runner (``python -m utils.runner``) and storing outputs in notebooks.

:mod:`utils.runner.series` executes the notebooks with papermill under a settings profile;
:mod:`utils.runner.outputs` re-executes a notebook and stores its outputs in the source (for contributors).
"""
