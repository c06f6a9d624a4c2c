rule load_problems:
    """A dataset's problems from the built-in world or a local file, checked row by row."""
    input:
        get_dataset_file,
    output:
        "results/problems/{dataset}.parquet",
    params:
        source=get_source,
    log:
        "logs/load_problems/{dataset}.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/load_problems.py"
