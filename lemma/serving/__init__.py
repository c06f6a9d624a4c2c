"""A teacher server the workflow owns (teacher.serve): started, reached and stopped by the run."""
