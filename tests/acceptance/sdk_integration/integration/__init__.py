# Integration tests for datalab-sdk
