from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open('mmsar/version.py') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(path):
    with open(path) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip() and not line.startswith('-r')
        ]


setup(
    name='mmsar',
    version=read_version(),
    description='Spatially Adaptive feature Refinement (SAR) backbones '
    'for OpenMMLab (mmdet, mmseg, mmpretrain)',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    keywords='computer vision, dynamic networks, spatially adaptive inference',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.8',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt')},
    license='Apache License 2.0',
    zip_safe=False,
)
