"""Local stand-ins that the tests and the benchmarks (bench/) share.

The scripted Invoke API (``fake_invoke_api``), a loopback S3 (``services``), a throwaway TLS
certificate (``tls``), a Lambda-like process for the real handler (``lambda_like``), and the
tiny functions the local Lambda serves in tests (``functions``). Not installed with the
package: both tests/ and bench/ import it from the repository root.
"""
