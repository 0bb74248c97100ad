"""Running the series: the headless runner (``python -m utils.runner``) and storing outputs in notebooks.

:mod:`utils.runner.series` executes the notebooks with papermill under a settings profile;
:mod:`utils.runner.outputs` re-executes a notebook and stores its outputs in the source (for contributors);
:mod:`utils.runner.stability` re-executes it as another machine would sum (other thread counts and kernels) and
lists the outputs that moved, so that a checked cell that another machine would fail is found here.
"""
