-- DuckDB only: a CSV file with a header user,item,timestamp[,type][,value] (comma-separated,
-- double-quoted fields). Malformed rows land in DuckDB's reject_errors table with their line.
-- On Spark or BigQuery, load the file as a table with these columns instead.
CREATE {{kind}} raw_file AS
SELECT * FROM read_csv({{path}}, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true, store_rejects = true, auto_detect = true);
