"""The Lambda context object of the cold start's fresh processes, in a module that imports
nothing: what it loads is counted against the app (bench/cold_start.py)."""


class LambdaContext:
    """What Chalice and Powertools read of Lambda's context object."""

    function_name = "portail-stagiaire-local"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:portail-stagiaire-local"
    aws_request_id = "bench"
    log_group_name = log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
