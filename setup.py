"""Build script: every piece of metadata comes from settings.ini (nbdev 2).

The stock nbdev template imports `pkg_resources`, which current setuptools no longer ships; requirement
strings are passed through as they are, so nothing here needs it.
"""
from configparser import ConfigParser
from pathlib import Path
import setuptools

here = Path(__file__).parent
config = ConfigParser(delimiters=['='])
config.read(here/'settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

for key in 'version description keywords author author_email license status min_python audience language'.split():
    assert key in cfg, f'settings.ini is missing `{key}`'

statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()
min_python = cfg['min_python']
lic = {'apache2': 'Apache-2.0', 'mit': 'MIT', 'gpl3': 'GPL-3.0-or-later', 'bsd3': 'BSD-3-Clause'}[cfg['license']]

requirements = cfg.get('requirements', '').split()
# optional extras: every `NAME_requirements` key of settings.ini becomes the extra `NAME`
extras = {k.removesuffix('_requirements'): v.split() for k, v in cfg.items() if k.endswith('_requirements') and v.strip()}

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=(here/'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    keywords=cfg['keywords'].split(),
    author=cfg['author'],
    author_email=cfg['author_email'],
    license=lic,
    url=cfg['git_url'],
    classifiers=[
        f'Development Status :: {statuses[int(cfg["status"]) - 1]}',
        f'Intended Audience :: {cfg["audience"]}',
        f'Natural Language :: {cfg["language"]}',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ] + [f'Programming Language :: Python :: {v}' for v in py_versions[py_versions.index(min_python):]],
    packages=setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),
    include_package_data=True,
    install_requires=requirements,
    extras_require=extras,
    python_requires=f'>={min_python}',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f'{cfg["lib_path"]}={cfg["lib_path"]}._modidx:d'],
    },
    project_urls={'Documentation': cfg['doc_host'] + cfg['doc_baseurl'], 'Source': cfg['git_url']},
)
