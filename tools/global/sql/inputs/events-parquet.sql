-- DuckDB only: a Parquet file with columns user,item,timestamp[,type][,value] (any types;
-- read as text). file_row_number gives each row's place for error messages ("row N").
CREATE {{kind}} raw_file AS
SELECT * FROM read_parquet({{path}}, file_row_number = true);
