"""Autograder for the "Optimization Methods" assignment kit.

The package is laid out as a pipeline:

* ``notebook``  -- read the master and submitted notebooks, find graded functions;
* ``sandbox``   -- run untrusted student code in a locked-down child process;
* ``checks``    -- compare what came back with the reference, case by case (pytest);
* ``reports``   -- turn check outcomes into a score table and Gradescope's results.json.
"""

__version__ = "0.2.0"
