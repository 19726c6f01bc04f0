"""Small adapters around boto3. Nothing outside this package talks to botocore."""
