"""RadLite ETL: free-text radiology reports in, typed Parquet tables out."""

__version__ = "0.1.0"
