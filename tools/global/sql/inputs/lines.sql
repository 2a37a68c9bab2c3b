-- DuckDB only: a JSON Lines file read line by line as text (one column j), so that a
-- malformed line is reported with its line number rather than failing the whole read.
CREATE {{kind}} raw_lines AS
SELECT j FROM read_csv({{path}}, columns = {'j': 'VARCHAR'}, header = false, delim = chr(1), quote = '', escape = '', auto_detect = false, strict_mode = false);
