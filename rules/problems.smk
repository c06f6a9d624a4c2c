rule load_problems:
    """A dataset's problems from the built-in world or a local file, checked row by row."""
    input:
        get_dataset_file,
    output:
        "results/problems/{dataset}.parquet",
    log:
        "logs/load_problems/{dataset}.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    params:
        source=get_source,
    script:
        "../scripts/load_problems.py"
