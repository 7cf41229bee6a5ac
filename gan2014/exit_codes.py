"""The exit statuses of the project's commands, one meaning each (a leaf module).

* 0 done;
* 1 the work failed (a run diverged, a checkpoint or another file could not be written);
* 2 bad input: arguments, YAML, dataset files, a checkpoint or run folder that cannot be read or
  used (argparse exits with 2 as well);
* 75 not finished, run the same command again (EX_TEMPFAIL of BSD's sysexits.h): a time budget ran
  out before the work was done, and what was done is saved;
* 130 interrupted by Ctrl-C (128 + SIGINT), after saving where the work stopped.
"""
EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNFINISHED = 75
EXIT_INTERRUPTED = 130
