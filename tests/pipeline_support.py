"""A small stand-in for the report notebook, so the pipeline's publishing semantics are tested in seconds."""
import nbformat as nbf

FAKE_CODE = """\
import json, os, time, pathlib
out = pathlib.Path(output_dir)
if os.environ.get('FAKE_SLEEP'): time.sleep(float(os.environ['FAKE_SLEEP']))
if period == '2026-09': raise RuntimeError('planted failure for ' + period)
if period == '2026-06':
    from sqc.errors import DataError
    raise DataError('negative wait time', file='hotline.csv', column='wait_s', row=7, value=-3,
                    expected='0 or more seconds')
for lang in languages:
    (out / f'dashboard_{lang}.html').write_text(f'<html>{period} {lang} {time.time()}</html>'
                                                + 'x' * int(os.environ.get('FAKE_BYTES', '0')))
(out / 'summary.json').write_text(json.dumps({'period': period, 'warnings': [], 'input_fingerprint': 'abc'}))
"""


def write_fake_notebook(path):
    """A report notebook that writes what the real one writes; fails for 2026-09, stops on bad data for 2026-06,
    sleeps FAKE_SLEEP seconds and pads the dashboards with FAKE_BYTES bytes when asked."""
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbf.v4.new_code_cell('period = "2026-10"\ndata_dir = None\nbranches = None\nlanguages = ["en"]\n'
                             'output_dir = "."', metadata={"tags": ["parameters"]}),
        nbf.v4.new_code_cell(FAKE_CODE),
    ]
    nbf.write(nb, path)
    return path
