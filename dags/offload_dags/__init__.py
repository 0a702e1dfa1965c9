"""Helpers of the Airflow DAGs: the settings they are named from, the run ledger discipline of each
step, and the two runtimes that execute a step (``local``: the project's Node CLI and local Spark;
``aws``: the deployed Lambdas and Glue jobs). Nothing here touches a database, the network or the
Airflow metadata database at import time: the DAG files only build their task graph."""
